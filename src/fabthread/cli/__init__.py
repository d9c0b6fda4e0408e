"""fabthread.cli"""
