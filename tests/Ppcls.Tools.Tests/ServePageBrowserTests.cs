using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Ppcls.Serving;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The page at GET / in a real browser: Debian's chromium, headless, driven by Selenium through chromium-driver
/// (/usr/bin/chromedriver), loopback only. The demo images are picked in the page's file input; the labels it shows
/// are read back and compared with `ppcls predict` on the same files. Skipped, with the reason, where no browser is installed
/// (scripts/setup.sh installs chromium and chromium-driver).
/// </summary>
[NonParallelizable]
public sealed class ServePageBrowserTests
{
    const string Chromium = "/usr/bin/chromium";
    const string ChromeDriver = "/usr/bin/chromedriver";

    [Test]
    public async Task The_page_shows_the_labels_ppcls_predict_gives_for_uploaded_images()
    {
        if (!File.Exists(Chromium) || !File.Exists(ChromeDriver))
            Assert.Ignore($"no browser: {Chromium} and {ChromeDriver} are needed (Debian packages chromium and chromium-driver; scripts/setup.sh installs them)");
        using var fixture = new ServingFixture();
        await using var server = await fixture.StartAsync();
        string[] files = [fixture.Images[0], fixture.Images[11], fixture.Images[22], fixture.Images[33]];
        var expected = fixture.Predict(files);

        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run");
        using var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.HideCommandPromptWindow = true;
        using var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        driver.Navigate().GoToUrl(server.Address);
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(30));
        wait.Until(d => d.FindElement(By.Id("model")).Text == "PPLCNet_x0_25");

        driver.FindElement(By.Id("files")).SendKeys(string.Join("\n", files));
        wait.Until(d => d.FindElement(By.Id("status")).Text.StartsWith("done", StringComparison.Ordinal));

        var boxes = driver.FindElements(By.CssSelector("#results .result"));
        Assert.That(boxes, Has.Count.EqualTo(files.Length));
        foreach (var box in boxes)
        {
            string file = box.GetAttribute("data-file")!;
            Assert.That(expected.ContainsKey(file), Is.True, file);
            var rows = box.FindElements(By.CssSelector(".row"));
            Assert.That(rows.Select(r => r.FindElement(By.CssSelector(".label")).Text), Is.EqualTo(expected[file].Names), file);
            Assert.That(rows.Select(r => int.Parse(r.GetAttribute("data-class-id")!)), Is.EqualTo(expected[file].Ids), file);
            Assert.That(rows.Select(r => double.Parse(r.FindElement(By.CssSelector(".score")).Text, System.Globalization.CultureInfo.InvariantCulture)),
                Is.EqualTo(expected[file].Scores).Within(1e-5), file);
        }
        Assert.That(driver.FindElement(By.Id("latency")).Text, Does.Match(@"^latency: \d+ ms \(server \d+ ms\)$"));
    }
}
