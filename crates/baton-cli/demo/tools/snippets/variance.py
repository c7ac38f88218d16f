def variance(values):
    values = list(values)
    centre = mean(values)
    return sum((v - centre) ** 2 for v in values) / len(values)


def stdev(values):
    return variance(values) ** 0.5
