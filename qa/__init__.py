"""The read path: retrieve passages, choose and cite sentences, answer, serve."""
