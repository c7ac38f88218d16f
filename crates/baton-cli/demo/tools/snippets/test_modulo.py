import unittest

from calc.arith import modulo


class ModuloTest(unittest.TestCase):
    def test_the_remainder_takes_the_sign_of_the_divisor(self):
        self.assertEqual(modulo(7, 3), 1)
        self.assertEqual(modulo(-7, 3), 2)

    def test_a_zero_divisor_is_an_error(self):
        with self.assertRaises(ZeroDivisionError):
            modulo(1, 0)


if __name__ == "__main__":
    unittest.main()
