print("inferscope")
