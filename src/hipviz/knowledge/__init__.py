"""What hipviz knows about hip and buttock pain: conditions, referral patterns, treatments.

Data files (conditions/*.yaml, pain_maps/patterns/*.json) validated by the models in schema.py.
"""
