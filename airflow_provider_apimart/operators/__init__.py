"""Operators: one per APIMart model, plus a generic one, over one base."""
