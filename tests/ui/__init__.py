"""Streamlit AppTest tests of the chat page."""
