"""The APIMart plugin for Airflow's UI: a Videos tab on runs and task instances, an APIMart page
with spend and outcomes, and a media endpoint that streams stored videos. It reads only what
Airflow and the provider already store (XComs, provenance records) and answers only to Airflow's
own auth. ``[apimart] ui_plugin = False`` turns it off."""
