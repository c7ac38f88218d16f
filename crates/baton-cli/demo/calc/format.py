def fixed(value, places=2):
    return f"{value:.{places}f}"
