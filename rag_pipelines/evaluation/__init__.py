"""Evaluation: golden sets (BEIR queries + qrels), runs per mode, metrics (checked against ranx)."""
