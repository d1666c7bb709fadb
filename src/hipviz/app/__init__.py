"""The Panel web app: the vtk.js viewer, the paint tool, the layout, session state and storage."""
