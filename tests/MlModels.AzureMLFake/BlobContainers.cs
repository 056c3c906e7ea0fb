using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace MlModels.AzureMLFake;

/// <summary>
/// Makes the datastore's blob container on a local blob service (Azurite) with a Shared Key request, so a test that
/// reaches the fake by URL has the container a real workspace's datastore already has.
/// </summary>
public static class BlobContainers
{
    /// <summary>Creates <paramref name="container"/> under the account at <paramref name="accountEndpoint"/> (http://127.0.0.1:port/account); true where it was made, false where it existed.</summary>
    public static bool Ensure(Uri accountEndpoint, string container, string accountKey)
    {
        var account = accountEndpoint.AbsolutePath.Trim('/');
        var url = new Uri(accountEndpoint.ToString().TrimEnd('/') + "/" + container + "?restype=container");
        var date = DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture);
        const string version = "2021-08-06";
        // Shared Key: verb, eleven standard headers (Content-Length empty when zero), x-ms-* headers, then the resource.
        var toSign = $"PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{account}{url.AbsolutePath}\nrestype:container";
        using var hmac = new HMACSHA256(Convert.FromBase64String(accountKey));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(toSign)));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent([]) };
        request.Headers.TryAddWithoutValidation("x-ms-date", date);
        request.Headers.TryAddWithoutValidation("x-ms-version", version);
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {account}:{signature}");
        using var response = http.Send(request);
        if (response.StatusCode == HttpStatusCode.Conflict) return false;
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Creating blob container {container} at {accountEndpoint} answered {(int)response.StatusCode}: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        return true;
    }
}
