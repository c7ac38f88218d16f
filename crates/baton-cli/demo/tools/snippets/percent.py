def percent(ratio, places=1):
    return f"{ratio * 100:.{places}f}%"
