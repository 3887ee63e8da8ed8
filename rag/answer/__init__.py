"""Answers: sentences and evidence, extractive and generated answers, verification of quotes."""
