"""WSDM Cup Multilingual Chatbot Arena (book ch.12)."""
