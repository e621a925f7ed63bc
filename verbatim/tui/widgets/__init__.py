"""Reusable widgets: the virtualised transcript view and the level meter."""
