"""fabthread.check"""
