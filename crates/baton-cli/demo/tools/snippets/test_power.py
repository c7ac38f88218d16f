import unittest

from calc.arith import power


class PowerTest(unittest.TestCase):
    def test_whole_and_negative_exponents(self):
        self.assertEqual(power(2, 10), 1024)
        self.assertEqual(power(2, -1), 0.5)
        self.assertEqual(power(7, 0), 1)

    def test_zero_to_a_negative_power_is_an_error(self):
        with self.assertRaises(ZeroDivisionError):
            power(0, -1)


if __name__ == "__main__":
    unittest.main()
