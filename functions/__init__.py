"""Data Validation for Dynamics 365: the Function App's code."""
