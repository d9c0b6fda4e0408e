"""fabthread.profiles"""
