"""The read path: retrieve passages, choose and cite sentences, answer, serve. In three
layers, each importing only those below it: the HTTP surface (qa.http) knows the engine
(qa.engine, qa.stores, qa.threads), which runs the read pipeline (qa.read); settings, errors
and the places of the shipped weights (qa.shipped) are shared by all three."""
