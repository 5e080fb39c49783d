"""WSDM Cup – Multilingual Chatbot Arena (book ch.12)."""

from shared.console import quiet_imports

quiet_imports()  # before torch/transformers load, so even --help starts clean
