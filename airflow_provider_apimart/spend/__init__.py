"""Spend limits: reserve a job's estimated cost before its paid POST, settle on its real cost."""
