"""Sensors: wait on an APIMart task made elsewhere."""
