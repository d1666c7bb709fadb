"""hipviz: an interactive 3D anatomy and referred-pain visualizer for the hip and buttock.

Educational software, not a diagnostic device.
"""

__version__ = "0.1.0"
