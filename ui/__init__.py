"""The Streamlit chat (``assistant ui`` / ``streamlit run ui/app.py``); uses assistant.service."""
