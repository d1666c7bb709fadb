"""The reproducible atlas build (`hipviz atlas build`): upstream wheels in, meshes/ out.

Maintainers run it; users never do (meshes/ is committed). Each upstream source sits behind a
small adapter (sources.py) so a better bone source can replace one without touching the rest.
"""
