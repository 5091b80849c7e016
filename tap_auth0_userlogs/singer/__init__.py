"""singer"""
