import tensorflow as tf

def build_graph(:
    pass
