namespace Ppcls.Inference;

/// <summary>
/// A problem the user can fix (missing model file, bad label map, an image that does not fit the
/// model). Its message is one line naming the file or key and what to do; callers print it
/// without a stack trace. Ppcls.Core's <c>PpclsUserException</c> derives from it, so the CLI
/// catches both as one.
/// </summary>
public class UserInputException(string message) : Exception(message);
