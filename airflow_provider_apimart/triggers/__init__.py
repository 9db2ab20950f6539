"""Triggers: ApimartTaskTrigger waits for an APIMart task in the triggerer."""
