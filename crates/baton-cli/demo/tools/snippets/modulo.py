def modulo(a, b):
    if b == 0:
        raise ZeroDivisionError("modulo: the divisor is zero")
    return a % b
