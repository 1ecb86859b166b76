print("inferscope-bench")
