"""The write path: read documents, split them into sentences, group passages, embed, store."""
