"""Replay and inspection tools for a running Blue webhooks stack, local or on AWS (`python -m ops`).

The tools import the domain package (the layer, installed in the venv) and act through it, as the functions do.
"""
