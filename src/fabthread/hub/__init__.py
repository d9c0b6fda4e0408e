"""fabthread.hub"""
