// Stands in for vtk.js's WebGPU render window (see build.mjs): the 3D view draws with WebGL only.
