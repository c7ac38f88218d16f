from calc.format import fixed, percent
from calc.stats import average, median, stdev


def describe(values):
    values = list(values)
    centre = average(values)
    spread = stdev(values)
    return {
        "count": len(values),
        "average": fixed(centre),
        "median": fixed(median(values)),
        "stdev": fixed(spread),
        "cv": percent(spread / centre) if centre else "n/a",
    }
