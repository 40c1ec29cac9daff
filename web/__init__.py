"""Blueprints: HTTP only, thin. They call services and render templates."""
