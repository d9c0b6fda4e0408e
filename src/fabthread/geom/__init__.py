"""fabthread.geom"""
