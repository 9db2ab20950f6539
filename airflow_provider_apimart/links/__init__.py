"""Extra links shown in the Airflow UI."""
