using System.Globalization;
using NCalc;
using Linq = System.Linq.Expressions;

namespace Meeshkan.Agent.Conditions;

/// <summary>
/// A condition the agent evaluates, such as <c>eval_loss - train_loss &gt; 0.2</c>, <c>[train loss] &lt; 0.1</c> or
/// <c>loss != loss</c>. NCalc parses it; this class checks that it is true/false-valued and compiles it once to a
/// delegate over the job's latest values. (NCalc's own interpreter boxes every value and costs about 0.5 us a
/// point; the compiled delegate a few nanoseconds, which matters for 50,000-point batches.)
/// </summary>
/// <remarks>
/// Numbers are doubles throughout (<c>1 / 0</c> is infinity, comparisons with NaN are false, <c>x != x</c> is true
/// for NaN). Supported: + - * / % ** , comparisons (= == != &lt;&gt; &lt; &lt;= &gt; &gt;=), and/or/not (&amp;&amp; || !),
/// <c>c ? a : b</c>, and the functions in <see cref="FunctionNames"/> (any case): <c>isnan(x)</c> and <c>isinf(x)</c> say
/// whether a value is NaN or infinite, so <c>isnan([train loss])</c> can stop a job whose loss diverged.
/// </remarks>
public sealed class ConditionExpression
{
    /// <summary>Longest expression accepted.</summary>
    public const int MaxLength = 4000;

    /// <summary>Functions a condition may call, lower case.</summary>
    public static readonly IReadOnlyList<string> FunctionNames =
    [
        "abs", "acos", "asin", "atan", "atan2", "ceiling", "cos", "exp", "floor", "ieeeremainder", "if", "in", "isinf",
        "isnan", "ln", "log", "log10", "max", "min", "pow", "round", "sign", "sin", "sqrt", "tan", "truncate",
    ];

    private static readonly LogicalExpressionParserOptions ParserOptions = new();

    private readonly LogicalExpression _tree;

    private ConditionExpression(string text, LogicalExpression tree, IReadOnlyList<string> names)
    {
        Text = text;
        _tree = tree;
        Names = names;
    }

    /// <summary>The expression as given (trimmed).</summary>
    public string Text { get; }

    /// <summary>The scalars it reads, in order of first appearance.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Parses and checks an expression.</summary>
    /// <exception cref="ConditionExpressionException">The reason it cannot be a condition, for the user.</exception>
    public static ConditionExpression Parse(string text)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            throw new ConditionExpressionException("the condition expression is empty; write e.g. `eval_loss - train_loss > 0.2`");
        }
        if (text.Length > MaxLength)
        {
            throw new ConditionExpressionException($"the condition expression is {text.Length} characters long; use at most {MaxLength}");
        }
        LogicalExpression tree;
        try
        {
            tree = LogicalExpressionParser.Parse(text, ParserOptions, CultureInfo.InvariantCulture, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConditionExpressionException(
                $"condition `{text}` is not a valid expression ({SyntaxError(e.Message)}); write e.g. `eval_loss - train_loss > 0.2`, " +
                "with [brackets] around names that contain spaces or other symbols");
        }
        var names = new List<string>();
        var compiler = new Compiler(name =>
        {
            var index = names.IndexOf(name);
            if (index < 0)
            {
                names.Add(name);
                index = names.Count - 1;
            }
            return index;
        }, text);
        var body = compiler.Build(tree);
        if (body.Type != typeof(bool))
        {
            throw new ConditionExpressionException(
                $"condition `{text}` is a number, not true or false; compare it with something, e.g. `{text} > 0.2`");
        }
        if (names.Count == 0)
        {
            throw new ConditionExpressionException(
                $"condition `{text}` reads no scalar; name at least one, e.g. `loss > 1` or `[train loss] < 0.1`");
        }
        foreach (var name in names)
        {
            if (ScalarName.Problem(name) is { } problem)
            {
                throw new ConditionExpressionException($"condition `{text}` reads an invalid scalar name: {problem}");
            }
        }
        return new ConditionExpression(text, tree, names);
    }

    /// <summary>NCalc's "Invalid token in expression at position (1:11)." as "invalid token in expression at column 11".</summary>
    private static string SyntaxError(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"^(.*?)\.?\s*at position \((\d+):(\d+)\)\.?$");
        if (!match.Success)
        {
            return message.TrimEnd('.');
        }
        var what = match.Groups[1].Value.TrimEnd('.');
        what = what.Length > 0 ? char.ToLowerInvariant(what[0]) + what[1..] : "syntax error";
        var (line, column) = (match.Groups[2].Value, match.Groups[3].Value);
        return line == "1" ? $"{what} at column {column}" : $"{what} at line {line}, column {column}";
    }

    /// <summary>
    /// Compiles the condition to a delegate over an array of latest values; <paramref name="slotOf"/> gives each
    /// name's index in that array.
    /// </summary>
    public Func<double[], bool> Compile(Func<string, int> slotOf)
    {
        var compiler = new Compiler(slotOf, Text);
        var body = compiler.Build(_tree);
        return Linq.Expression.Lambda<Func<double[], bool>>(body, compiler.Values).Compile();
    }

    /// <summary>Turns NCalc's tree into a typed LINQ expression: double for numbers, bool for conditions.</summary>
    private sealed class Compiler(Func<string, int> slotOf, string text)
    {
        public Linq.ParameterExpression Values { get; } = Linq.Expression.Parameter(typeof(double[]), "values");

        public Linq.Expression Build(LogicalExpression node) => node switch
        {
            Identifier identifier => Linq.Expression.ArrayIndex(Values, Linq.Expression.Constant(slotOf(identifier.Name))),
            ValueExpression value => Constant(value),
            UnaryExpression unary => Unary(unary),
            BinaryExpression binary => Binary(binary),
            TernaryExpression ternary => Choose(ternary.LeftExpression, ternary.MiddleExpression, ternary.RightExpression),
            Function function => Call(function),
            _ => throw Invalid($"`{text}` uses a construct conditions do not support ({node.GetType().Name})"),
        };

        private Linq.Expression Constant(ValueExpression value) => value.Type switch
        {
            NCalc.ValueType.Integer or NCalc.ValueType.Float =>
                Linq.Expression.Constant(Convert.ToDouble(value.Value, CultureInfo.InvariantCulture)),
            NCalc.ValueType.Boolean => Linq.Expression.Constant((bool)value.Value!),
            _ => throw Invalid($"condition `{text}` contains {value.Type.ToString().ToLowerInvariant()} value {value.Value}; " +
                "conditions compare numbers (put names in [brackets], not quotes)"),
        };

        private Linq.Expression Unary(UnaryExpression unary) => unary.Type switch
        {
            UnaryExpressionType.Not => Linq.Expression.Not(Bool(unary.Expression, "not")),
            UnaryExpressionType.Negate => Linq.Expression.Negate(Number(unary.Expression, "-")),
            UnaryExpressionType.Positive => Number(unary.Expression, "+"),
            _ => throw Invalid($"condition `{text}` uses operator {unary.Type}, which conditions do not support"),
        };

        private Linq.Expression Binary(BinaryExpression binary)
        {
            var (left, right) = (binary.LeftExpression, binary.RightExpression);
            Linq.Expression Compare(Func<Linq.Expression, Linq.Expression, Linq.Expression> make, string op)
            {
                var first = Build(left);
                return make(first, Same(first, right, op));
            }
            return binary.Type switch
            {
                BinaryExpressionType.Plus => Linq.Expression.Add(Number(left, "+"), Number(right, "+")),
                BinaryExpressionType.Minus => Linq.Expression.Subtract(Number(left, "-"), Number(right, "-")),
                BinaryExpressionType.Times => Linq.Expression.Multiply(Number(left, "*"), Number(right, "*")),
                BinaryExpressionType.Div => Linq.Expression.Divide(Number(left, "/"), Number(right, "/")),
                BinaryExpressionType.Modulo => Linq.Expression.Modulo(Number(left, "%"), Number(right, "%")),
                BinaryExpressionType.Exponentiation => CallMath(nameof(System.Math.Pow), Number(left, "**"), Number(right, "**")),
                BinaryExpressionType.Lesser => Linq.Expression.LessThan(Number(left, "<"), Number(right, "<")),
                BinaryExpressionType.LesserOrEqual => Linq.Expression.LessThanOrEqual(Number(left, "<="), Number(right, "<=")),
                BinaryExpressionType.Greater => Linq.Expression.GreaterThan(Number(left, ">"), Number(right, ">")),
                BinaryExpressionType.GreaterOrEqual => Linq.Expression.GreaterThanOrEqual(Number(left, ">="), Number(right, ">=")),
                BinaryExpressionType.Equal => Compare(Linq.Expression.Equal, "=="),
                BinaryExpressionType.NotEqual => Compare(Linq.Expression.NotEqual, "!="),
                BinaryExpressionType.And => Linq.Expression.AndAlso(Bool(left, "and"), Bool(right, "and")),
                BinaryExpressionType.Or => Linq.Expression.OrElse(Bool(left, "or"), Bool(right, "or")),
                _ => throw Invalid($"condition `{text}` uses operator {binary.Type}, which conditions do not support"),
            };
        }

        private Linq.Expression Call(Function function)
        {
            var name = function.Identifier.Name.ToLowerInvariant();
            var args = function.Parameters;
            var count = args.Count;
            void Arity(int min, int max)
            {
                if (count < min || count > max)
                {
                    var expected = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} or {max}";
                    throw Invalid($"condition `{text}`: {name}() takes {expected} argument(s), not {count}");
                }
            }
            Linq.Expression Arg(int i) => Number(args[i], name + "()");
            switch (name)
            {
                case "if":
                    Arity(3, 3);
                    return Choose(args[0], args[1], args[2]);
                case "in":
                    Arity(2, int.MaxValue);
                    var first = Build(args[0]);
                    Linq.Expression any = Linq.Expression.Equal(first, Same(first, args[1], "in()"));
                    for (var i = 2; i < count; i++)
                    {
                        any = Linq.Expression.OrElse(any, Linq.Expression.Equal(first, Same(first, args[i], "in()")));
                    }
                    return any;
                case "isnan":
                    Arity(1, 1);
                    return Linq.Expression.Call(typeof(double), nameof(double.IsNaN), null, Arg(0));
                case "isinf":
                    Arity(1, 1);
                    return Linq.Expression.Call(typeof(double), nameof(double.IsInfinity), null, Arg(0));
                case "sign":
                    Arity(1, 1);
                    return Linq.Expression.Convert(CallMath(nameof(System.Math.Sign), Arg(0)), typeof(double));
                case "log":
                    Arity(2, 2);
                    return CallMath(nameof(System.Math.Log), Arg(0), Arg(1));
                case "ln":
                    Arity(1, 1);
                    return CallMath(nameof(System.Math.Log), Arg(0));
                case "round":
                    Arity(1, 2);
                    return count == 1
                        ? CallMath(nameof(System.Math.Round), Arg(0))
                        : CallMath(nameof(System.Math.Round), Arg(0), Linq.Expression.Convert(Arg(1), typeof(int)));
                case "atan2" or "ieeeremainder" or "max" or "min" or "pow":
                    Arity(2, 2);
                    return CallMath(MathName(name), Arg(0), Arg(1));
                case "abs" or "acos" or "asin" or "atan" or "ceiling" or "cos" or "exp" or "floor" or "log10" or "sin"
                    or "sqrt" or "tan" or "truncate":
                    Arity(1, 1);
                    return CallMath(MathName(name), Arg(0));
                default:
                    throw Invalid($"condition `{text}` calls {function.Identifier.Name}(), which is not known{At(function.Identifier.Name)}; " +
                        $"use one of {string.Join(", ", FunctionNames)}");
            }
        }

        /// <summary>" (at column N)" of the first call of <paramref name="name"/> in the text, or nothing.</summary>
        private string At(string name)
        {
            var match = System.Text.RegularExpressions.Regex.Match(text, $@"(?<![\w\]]){System.Text.RegularExpressions.Regex.Escape(name)}\s*\(");
            return match.Success ? $" (at column {match.Index + 1})" : "";
        }

        private static string MathName(string lower) =>
            typeof(System.Math).GetMethods().First(m => string.Equals(m.Name, lower, StringComparison.OrdinalIgnoreCase)).Name;

        private static Linq.Expression CallMath(string method, params Linq.Expression[] args) =>
            Linq.Expression.Call(typeof(System.Math).GetMethod(method, args.Select(a => a.Type).ToArray())!, args);

        private Linq.Expression Choose(LogicalExpression test, LogicalExpression whenTrue, LogicalExpression whenFalse)
        {
            var yes = Build(whenTrue);
            return Linq.Expression.Condition(Bool(test, "?:"), yes, Same(yes, whenFalse, "?:"));
        }

        private Linq.Expression Number(LogicalExpression node, string op)
        {
            var built = Build(node);
            return built.Type == typeof(double)
                ? built
                : throw Invalid($"condition `{text}` applies {op} to true/false; it needs numbers there");
        }

        private Linq.Expression Bool(LogicalExpression node, string op)
        {
            var built = Build(node);
            return built.Type == typeof(bool)
                ? built
                : throw Invalid($"condition `{text}` applies {op} to a number; it needs a comparison there, e.g. `loss > 1`");
        }

        /// <summary>The other side of ==, != or ?: must be of the same kind as the first.</summary>
        private Linq.Expression Same(Linq.Expression first, LogicalExpression node, string op)
        {
            var built = Build(node);
            return built.Type == first.Type
                ? built
                : throw Invalid($"condition `{text}` mixes a number and true/false around {op}");
        }

        private static ConditionExpressionException Invalid(string message) => new(message);
    }
}

/// <summary>Why an expression cannot be a condition, worded for the user.</summary>
public sealed class ConditionExpressionException(string message) : Exception(message);
