"""auth0"""
