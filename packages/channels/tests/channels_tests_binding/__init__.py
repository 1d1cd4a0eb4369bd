"""Test app for data binding: one model with a field that must never be broadcast."""
