"""The read pipeline, a role to a module or a folder: the question (question, followup),
retrieve, rankers/, readers/, verify, abstain, checks/ (a best sentence that does not
answer, found by rule), and the evidence an answerer in answerers/ words (extractive for the
default); pipeline runs them in turn and roles holds their protocols.
It imports no web framework and nothing of qa above it: the engine (qa.engine) and the
HTTP surface (qa.http) know it, never the other way round."""
