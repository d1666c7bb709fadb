"""The anatomical atlas: structure catalog, built meshes, labelled body surface."""
