"""JSON Schemas for the policy file format."""
