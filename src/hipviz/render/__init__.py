"""PyVista scenes, colours, camera presets and offscreen images of the atlas."""
