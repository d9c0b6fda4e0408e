"""fabthread.cam"""
