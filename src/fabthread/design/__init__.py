"""fabthread.design"""
