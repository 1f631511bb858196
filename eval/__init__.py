"""Evaluation suite for citeqa: faithfulness and citation quality."""
