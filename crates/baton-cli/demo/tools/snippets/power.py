def power(base, exponent):
    if exponent < 0 and base == 0:
        raise ZeroDivisionError("power: zero to a negative power")
    return base**exponent
